// The MQTT 5 / 3.1.1 transport.
export { MqttTransport, MqttTransportClosedError } from './transport';
export type { MqttTransportOptions } from './options';
export type { StatusPayload } from './presence';
export * as addresses from '../../contract/addresses';
