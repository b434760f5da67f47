// Set before every suite (jest.config.js setupFiles): agents spawned by a
// test serve no metrics listener unless the test asks for one with
// --metrics-listen (flags win over this); dozens of agents would otherwise
// all want the default 127.0.0.1:9477.
process.env.VIRTBUS_METRICS_LISTEN ??= 'none';
