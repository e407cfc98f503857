/**
 * A recipe name: lowercase letters, digits and dashes, not starting or ending with a dash. At most
 * 40: the recipe name starts every Step Functions execution name (80 at most). Every edge that
 * takes a recipe name (recipe files, start requests, execution input, the CLI) checks this one rule.
 */
export const RECIPE_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
