import { cac } from "cac";
import { VERSION } from "../core/version.ts";

const cli = cac("minik");

cli.command("version", "Print the client and server versions").action(() => {
  console.log(`minik ${VERSION.minik} (Kubernetes API ${VERSION.gitVersion})`);
});

cli.help();
cli.version(VERSION.minik);
cli.parse(process.argv, { run: false });
if (!cli.matchedCommand && cli.args.length === 0 && !cli.options.help && !cli.options.version) cli.outputHelp();
else await cli.runMatchedCommand();
