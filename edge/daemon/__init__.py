"""The daemon: many cameras in, rep events out over MQTT (`hinge-edge run`)."""
