/**
 * The floor of every container memory limit. The defaults per environment are each stack service's
 * own (its descriptor, listed in components/stack-services.ts); a stack overrides any under `memoryMb.<key>`.
 */

/** The smallest memory limit a container may be given (MB). */
export const MIN_MEMORY_MB = 32;
