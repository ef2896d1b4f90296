/** One timed offline plan in its own process (for `npm run bench`); prints {elapsedMs, resources} as JSON. */
import * as path from "path";
import { planStack } from "./plan";

const [projectDir, stack] = process.argv.slice(2);
planStack(path.resolve(projectDir), stack)
  .then((result) => console.log(JSON.stringify({ elapsedMs: result.elapsedMs, resources: result.run.resources.length })))
  .catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
