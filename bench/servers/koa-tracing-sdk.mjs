// Koa + Gatehouse tracing-sdk: the candidate of koa-tracing-sdk.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('tracing-sdk');
