"""Frame sources: video files now; RTSP, MJPEG and USB cameras with the daemon."""
