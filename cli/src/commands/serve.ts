/**
 * `alertbus serve <service>`: one service in the foreground — what the image, compose and Kubernetes run.
 * The service runs in this very process (no child to forward signals to or to outlive a kill -9): same
 * environment variables as `npm start`, JSON logs on stdout, /readyz on its ops port, SIGTERM stops it and its
 * exit code is the command's. Compiled when this CLI runs compiled (the image), from TypeScript in a checkout.
 */
import { Argument, type Command } from 'commander';
import { runServiceInProcess, serviceDef, SERVICES, type ServiceName } from '@alertbus/launcher';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run one service in the foreground (same environment as npm start); SIGTERM stops it')
    .addArgument(new Argument('<service>', 'the service to run').choices(SERVICES.map((s) => s.name)))
    .action((service: string) => {
      runServiceInProcess(serviceDef(service as ServiceName));
    });
}
