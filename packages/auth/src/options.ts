// Option checking lives in core, shared with every capability package.
export { nonEmptyString, Problems, positiveInt, unknownKeys } from '@gatehousejs/core';
