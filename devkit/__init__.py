"""The development harness shared by the tests and the tools, never part of the product.

A real mosquitto and a paho subscriber (`broker`), the daemon as a child process
(`daemon`), its pose stage scripted from known landmarks (`scripted`), and headless
Chromium driven over the DevTools protocol (`browser`, `chromium`). The wheel packages
`edge` only and Dockerfile.arm64 copies `edge/` only, so none of this reaches an image;
`edge` never imports it (tests/test_layers.py).
"""
