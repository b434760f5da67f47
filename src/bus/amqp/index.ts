// The AMQP 0-9-1 (RabbitMQ) transport.
export { AmqpTransport, TransportClosedError, type AmqpTransportOptions } from './transport';
export { TopologyMismatchError, TopologyMissingError } from './topology';
export * as addresses from '../../contract/addresses';
