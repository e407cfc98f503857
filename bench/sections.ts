import { bundlesSection } from './bundles.js';
import { localBakeSection } from './local-bake.js';
import type { Section } from './section.js';

/**
 * Every section of `npm run bench`, in report order. Add a section with one line here and its own
 * module in bench/.
 */
export const SECTIONS: Section[] = [localBakeSection, bundlesSection];
