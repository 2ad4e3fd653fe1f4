import { createOllamaAdapter } from '../../src/upstreams/ollama/adapter.js';
import { adapterContract } from './adapter-contract.js';

adapterContract({ kind: 'ollama', create: createOllamaAdapter, baseUrl: (simUrl) => simUrl });
