import type { GatewayError } from '../../errors/catalogue.js';
import { surfaceErrorHandler } from '../errors.js';

/** The Ollama surface's one error renderer: `{"error":"<message>"}` (docs/protocols.md A.10). */

export const ollamaErrorBody = (e: GatewayError): { error: string } => ({ error: e.publicMessage });

/** Fastify error handler for the Ollama surface (also gets Fastify's own body-parsing errors). */
export const ollamaErrorHandler = surfaceErrorHandler(ollamaErrorBody);
