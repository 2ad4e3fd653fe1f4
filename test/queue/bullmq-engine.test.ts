import { taskBehaviour } from './behaviour.js';

taskBehaviour('bullmq');
