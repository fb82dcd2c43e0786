"""The test broker itself: same ports across restarts, websockets, a save that persists."""

import paho.mqtt.client as mqtt

from devkit.broker import Collector, port_accepts, retained_snapshot


def test_restart_keeps_the_port_and_kill_loses_unsaved_state(mosquitto):
    port = mosquitto.port
    publisher = Collector(port, "unused").wait_subscribed()
    publisher.client.publish("k/retained", "v", qos=1, retain=True).wait_for_publish(5)
    publisher.close()
    mosquitto.kill()
    assert not port_accepts(port)
    mosquitto.start()
    assert mosquitto.port == port and port_accepts(port)
    collector = Collector(port, "k/#").wait_subscribed()
    collector.client.publish("k/live", "x", qos=1)
    msg = collector.wait_for(lambda m: True)
    assert msg.topic == "k/live"  # persistence off: the retained "v" is gone
    collector.close()


def test_persistent_broker_keeps_retained_after_save_and_kill(mosquitto_factory):
    broker = mosquitto_factory(persistence=True)
    client = Collector(broker.port, "unused").wait_subscribed()
    client.client.publish("k/retained", "v", qos=1, retain=True).wait_for_publish(5)
    client.close()
    broker.save()
    broker.restart(kill=True)
    assert retained_snapshot(broker.port, "k/retained").payload == b"v"


def test_websockets_listener(mosquitto_factory):
    broker = mosquitto_factory(websockets=True)
    tcp = Collector(broker.port, "ws/#").wait_subscribed()
    ws = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, transport="websockets")
    ws.connect("127.0.0.1", broker.ws_port)
    ws.loop_start()
    ws.publish("ws/hello", "hi", qos=1).wait_for_publish(5)
    ws.disconnect()
    ws.loop_stop()
    assert tcp.wait_for(lambda m: True).payload == b"hi"
    tcp.close()
