import { buildProgram } from './program';

buildProgram()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    process.stderr.write(`alertbus: ${err.message}\n`);
    process.exit(1);
  });
