#!/bin/sh
# Alertmanager of the one-host deployment (deploy/compose.yaml): writes Alertmanager's
# configuration from the environment (deploy/.env), then runs Alertmanager with the arguments
# given (compose's `command`). Alertmanager reads no environment variables in its own file, so
# the file is made here, at each start, into its data volume.
#
#   ALERT_TELEGRAM_CHAT_ID     the chat (a staff group: a negative number) that receives the alerts
#   ALERT_TELEGRAM_BOT_TOKEN   the bot that sends them; default TELEGRAM_BOT_TOKEN, the product's bot
#                              (add that bot to the group)
#   ALERT_WEBHOOK_URL          also (or instead) POST Alertmanager's JSON there: a pager, a chat bridge
#
# Neither set: alerts are kept and shown by Alertmanager (http://127.0.0.1:9093) but sent
# nowhere, and this says so in the log. `critical` alerts repeat every hour while they fire,
# the others every 4 hours (docs/operations.md, "Alerts").
# Checked by test/deploy/compose.test.ts (`amtool check-config` on each kind of configuration).
set -eu

out="${ALERTMANAGER_CONFIG_FILE:-/alertmanager/alertmanager.yaml}"
chat="${ALERT_TELEGRAM_CHAT_ID:-}"
token="${ALERT_TELEGRAM_BOT_TOKEN:-${TELEGRAM_BOT_TOKEN:-}}"
webhook="${ALERT_WEBHOOK_URL:-}"

fail() {
  echo "alertmanager: $1" >&2
  exit 2
}
# A YAML single-quoted string: quotes inside are doubled.
quoted() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

case "$chat" in
  '') ;;
  *[!0-9-]* | -*-* | ?*-* | - ) fail "ALERT_TELEGRAM_CHAT_ID must be a Telegram chat id (digits, a leading - for a group), got '$chat'" ;;
esac
if [ -n "$chat" ] && [ -z "$token" ]; then
  fail "ALERT_TELEGRAM_CHAT_ID is set but neither ALERT_TELEGRAM_BOT_TOKEN nor TELEGRAM_BOT_TOKEN is"
fi
case "$webhook" in
  '' | http://* | https://*) ;;
  *) fail "ALERT_WEBHOOK_URL must be an http:// or https:// URL" ;;
esac

umask 077
{
  cat <<'EOF'
# Written by deploy/observability/alertmanager/entrypoint.sh at start; edit deploy/.env instead.
route:
  receiver: operators
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - receiver: operators
      matchers: ['severity="critical"']
      repeat_interval: 1h
inhibit_rules:
  # Nothing ticks the bots, or no process answers: the narrower alerts say the same thing.
  - source_matchers: ['alertname="BotcriptofyNothingTicksBots"']
    target_matchers: ['alertname=~"BotcriptofyBotsNotTicking|BotcriptofyWorkersFallingBehind"']
  - source_matchers: ['alertname="BotcriptofyDatabaseDown"']
    target_matchers: ['alertname=~"BotcriptofyBotTicksFailing|BotcriptofyWebhookFailures|BotcriptofyAuditNotVerified"']
receivers:
  - name: operators
EOF
  if [ -n "$chat" ]; then
    cat <<EOF
    telegram_configs:
      - bot_token: $(quoted "$token")
        chat_id: $chat
        send_resolved: true
EOF
  fi
  if [ -n "$webhook" ]; then
    cat <<EOF
    webhook_configs:
      - url: $(quoted "$webhook")
        send_resolved: true
EOF
  fi
} >"$out.tmp"
mv "$out.tmp" "$out"

if [ -z "$chat" ] && [ -z "$webhook" ]; then
  echo "alertmanager: no receiver set (ALERT_TELEGRAM_CHAT_ID, ALERT_WEBHOOK_URL in deploy/.env): alerts are shown, not sent" >&2
fi
if [ "$#" -gt 0 ]; then exec "$@"; fi
