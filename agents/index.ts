export { agentByName } from './names.ts';
export { answerOffline, type AnswerRejection, type OfflineReason, type TurnResult, type TurnToolCall } from './offline-turn.ts';
export { routeMessage, type AgentName, type RoutedRequest } from './intents.ts';
// Language detection lives in i18n/; re-exported for the doors that reach it through the agents.
export { detectLocale } from '../i18n/index.ts';
export { renderToolResult } from './templates.ts';
export { checkGrounding, type GroundingVerdict } from './grounding.ts';
export {
  ANSWER_RULES,
  claimsEffect,
  gateAnswer,
  MAX_ANSWER_CHARS,
  type GateInput,
  type GateReason,
  type GateRule,
  type GateVerdict,
} from './answer-gate.ts';
export { refusalDetail, reportActions, requestedAction, type ActionReport, type ActionStatus } from './actions.ts';
export { agentToolNames, mastraToolsFor, toolDefinitionsFor, turnOf, TURN_KEY, type TurnState } from './mastra-tools.ts';
export { ModelGateway, type ModelMeter, type ModelSettings, type ModelState } from './model.ts';
export type { ToolMode } from './structured-tools.ts';
export { AGENT_TITLES, departmentName, instructionsFor } from './profiles.ts';
export { MAX_DELEGATIONS, MAX_STEPS, runTurn, settleTurns, type AgentRuntime, type TurnRequest } from './turn.ts';
export { AGENT_NAMES } from './names.ts';
export { askableAgents, mayAsk, type AskDecision } from './access.ts';
export { AGENT_TOOLSETS, agentUsesTool } from './toolsets.ts';
export { CHARS_PER_TOKEN, promptFootprint, type PromptFootprint } from './footprint.ts';
export {
  ASSISTANT_TOOLS,
  AssistantError,
  assistantCall,
  assistantModel,
  describesNewBot,
  draftBacktestCurves,
  notADescriptionHint,
  routeTraderWords,
  type DraftBacktestCurves,
  draftFromWords,
  draftRoute,
  OPEN_DRAFT_WINDOW_MS,
  wordsSetDraftFields,
  type DraftRoute,
  type OpenDraftRef,
  groundedHints,
  modelHints,
  TRADER_ASSISTANT,
  type AssistantRuntime,
  type AssistantTool,
} from './assistant.ts';
