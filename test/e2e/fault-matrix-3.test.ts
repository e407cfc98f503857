import { matrixPart } from './fault-matrix/harness.js';

matrixPart(3, 3);
