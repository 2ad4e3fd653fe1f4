import { createOpenAIAdapter } from '../../src/upstreams/openai/adapter.js';
import { adapterContract } from './adapter-contract.js';

adapterContract({ kind: 'openai', create: createOpenAIAdapter, baseUrl: (simUrl) => `${simUrl}/v1` });
