import { AGENT_NAMES, AGENT_TITLES, ModelGateway, promptFootprint, toolDefinitionsFor } from '../../agents/index.ts';
import { TOOLS } from '../../tools/index.ts';
import { loadConfig } from '../../config/index.ts';
import { printTable } from '../table.ts';

/** The ten agents with their model and tools; needs neither the database nor Ollama. */
export async function agentsCommand(options: { json?: boolean }): Promise<void> {
  const { ollama } = loadConfig();
  const gateway = new ModelGateway(ollama);
  const agents = AGENT_NAMES.map((agent) => {
    const footprint = promptFootprint(agent);
    return {
      agent,
      title: AGENT_TITLES[agent],
      model: gateway.modelFor(agent),
      tools: toolDefinitionsFor(agent).map(({ name, description }) => ({
        name,
        effect: TOOLS.get(name)?.effect ?? 'delegate',
        description,
      })),
      promptTokensEstimate: footprint.estimatedTokens,
    };
  });
  if (options.json) {
    console.log(JSON.stringify(agents));
    return;
  }
  printTable(
    ['AGENT', 'MODEL', 'PROMPT', 'TOOLS'],
    agents.map((a) => [
      a.agent,
      a.model,
      `~${a.promptTokensEstimate} tok`,
      a.tools.map((t) => (t.effect === 'approval' ? `${t.name}*` : t.name)).join(', '),
    ]),
  );
  console.log('\n* needs approval by the department head or the CEO. PROMPT: instructions plus tool schemas, estimated.');
}

/** Whether Ollama answers and has the configured models. Exit 1 when it can't serve. */
export async function modelStatusCommand(options: { json?: boolean }): Promise<void> {
  const { ollama } = loadConfig();
  const status = await new ModelGateway(ollama).status({ fresh: true, timeoutMs: 3_000 });
  if (options.json) console.log(JSON.stringify({ host: ollama.host, model: ollama.model, agentModels: ollama.agentModels, ...status }));
  else if (status.state === 'ready')
    console.log(`Ollama at ${ollama.host} is ready with ${ollama.model} (models: ${status.models.join(', ')}).`);
  else console.log(`${status.message}. Agents answer offline (router and templates) until it is fixed.`);
  if (status.state !== 'ready') process.exitCode = 1;
}

/** Pulls the configured model (or the one named) into Ollama, with a progress bar. */
export async function modelPullCommand(options: { model?: string }): Promise<void> {
  const { ollama } = loadConfig();
  const gateway = new ModelGateway(ollama);
  const models = options.model ? [options.model] : [...new Set([ollama.model, ...Object.values(ollama.agentModels)])];
  const status = await gateway.status({ fresh: true, timeoutMs: 3_000 });
  if (status.state === 'down') {
    // A runtime failure (exit 1), not a usage error: the command was right, Ollama is not there.
    console.error(`Error: ${status.message}. Start Ollama (https://ollama.com), or set OLLAMA_HOST to where it runs, and try again.`);
    process.exitCode = 1;
    return;
  }
  for (const model of models) {
    const progress = progressPrinter(model);
    await gateway.pull(model, progress.update);
    progress.done();
  }
}

function progressPrinter(model: string) {
  const tty = process.stderr.isTTY;
  let lastStatus = '';
  let lastShare = -1;
  return {
    update(status: string, completed?: number, total?: number) {
      if (completed !== undefined && total) {
        const share = completed / total;
        if (tty) {
          const width = 30;
          const filled = Math.round(share * width);
          process.stderr.write(
            `\r${model} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(share * 100).toFixed(0).padStart(3)}% ${(completed / 1e6).toFixed(0)}/${(total / 1e6).toFixed(0)} MB`,
          );
        } else if (Math.floor(share * 10) !== Math.floor(lastShare * 10)) {
          process.stderr.write(`${model}: ${(share * 100).toFixed(0)}% of ${(total / 1e6).toFixed(0)} MB\n`);
        }
        lastShare = share;
        return;
      }
      if (status !== lastStatus) {
        process.stderr.write(`${tty && lastShare >= 0 ? '\n' : ''}${model}: ${status}\n`);
        lastShare = -1;
      }
      lastStatus = status;
    },
    done() {
      console.log(`${model} is ready.`);
    },
  };
}
