export { agentByName } from './names.ts';
export { answerOffline, type TurnResult } from './offline-turn.ts';
export { detectLocale, routeMessage, type AgentName, type RoutedRequest } from './router.ts';
export { renderToolResult } from './templates.ts';
