/** The stack name rule, without dependencies: the plan script checks its --stack argument before loading anything. */

/**
 * The stack name, as the Pulumi CLI allows it (pulumi/pulumi sdk/go/common/tokens/stack_name.go,
 * ParseStackName: at most 100 characters of [A-Za-z0-9_.-]). It reaches file comments, Docker names and
 * Elasticsearch names; the offline plan takes it from its command line, so it is checked here too.
 */
export function stackNameProblem(stack: string): string | undefined {
  if (stack === "") return "a stack name may not be empty";
  if (stack.length > 100) return "a stack name cannot exceed 100 characters (Pulumi's limit)";
  const bad = /[^A-Za-z0-9_.-]/.exec(stack);
  if (bad)
    return `a stack name may only contain alphanumerics, hyphens, underscores or periods (as Pulumi requires): invalid character ${JSON.stringify(bad[0])} at position ${bad.index}`;
  return undefined;
}
