// The embedded default of `npm start` with no configuration: libvirt's
// in-process test driver and an in-process MQTT broker. Port 1885, not 1883,
// so that it never collides with a system broker (Mosquitto) on the
// standard port nor with RabbitMQ's MQTT plugin (1884 here); --embedded-port changes it.
export const EMBEDDED_PORT = 1885;
export const EMBEDDED_HOST = '127.0.0.1';
export const EMBEDDED_BUS_URL = `mqtt://${EMBEDDED_HOST}:${EMBEDDED_PORT}`;
export const EMBEDDED_LIBVIRT_URI = 'test:///default';
