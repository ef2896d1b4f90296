/**
 * One error type for "the input is wrong, here is everything that is": config, dashboards and rule
 * files all collect their problems and throw one of these, and one loader shape turns it into the
 * program's stop before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";

export class ProblemsError extends Error {
  /**
   * @param subject what was checked, e.g. `Stack config "dev"` or `alert rule files`
   * @param problems one line each, already naming where (key, file, group)
   */
  constructor(
    subject: string,
    readonly problems: string[],
  ) {
    super(
      `${subject}: ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was created or changed:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
    this.name = new.target.name;
  }
}

/**
 * The loader shape: run a pure check-and-build step from the program; on a ProblemsError stop with
 * its message only (RunError prints no stack trace: the list of problems is the whole story).
 */
export function stopOnProblems<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ProblemsError) throw new pulumi.RunError(error.message);
    throw error;
  }
}
