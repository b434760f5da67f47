// prom-client's parts the agent uses, loaded without its index module. The
// index also loads the Pushgateway (http, https, zlib, url-parse) and the
// cluster aggregator, which the agent never uses: ~0.5 MiB resident at idle
// (bench/RESULTS.md, eighth session). prom-client has no "exports" map, so
// its lib/ files are its public modules too; the types are the index's.
import type * as Prom from 'prom-client';

/* eslint-disable @typescript-eslint/no-require-imports */
export type Registry = Prom.Registry;
export const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
export type Counter<T extends string = string> = Prom.Counter<T>;
export const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
export type Gauge<T extends string = string> = Prom.Gauge<T>;
export const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
export type Histogram<T extends string = string> = Prom.Histogram<T>;
export const Histogram = require('prom-client/lib/histogram') as typeof Prom.Histogram;
export const collectDefaultMetrics = require('prom-client/lib/defaultMetrics') as typeof Prom.collectDefaultMetrics;
