//! handelsbanken adapter (in progress).
