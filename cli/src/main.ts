import { buildProgram } from './program';
import { explainFailure } from './support';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`alertbus: ${explainFailure(err)}\n`);
    process.exit(1);
  });
