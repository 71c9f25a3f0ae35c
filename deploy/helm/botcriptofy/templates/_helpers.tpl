{{- define "botcriptofy.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "botcriptofy.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "botcriptofy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "botcriptofy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: pass (dict "root" $ "component" "api") */}}
{{- define "botcriptofy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "botcriptofy.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "botcriptofy.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "botcriptofy.secretName" -}}
{{- default (printf "%s-secrets" (include "botcriptofy.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "botcriptofy.databaseUrl" -}}
{{- if .Values.secrets.DATABASE_URL -}}
{{- .Values.secrets.DATABASE_URL -}}
{{- else if .Values.postgresql.enabled -}}
{{- printf "postgres://%s:%s@%s-postgresql:5432/%s" .Values.postgresql.auth.username (required "postgresql.auth.password is required with the bundled PostgreSQL" .Values.postgresql.auth.password | urlquery | replace "+" "%20") (include "botcriptofy.fullname" .) .Values.postgresql.auth.database -}}
{{- end -}}
{{- end -}}

{{- define "botcriptofy.redisUrl" -}}
{{- if .Values.secrets.REDIS_URL -}}
{{- .Values.secrets.REDIS_URL -}}
{{- else if .Values.redis.enabled -}}
{{- printf "redis://%s-redis:6379" (include "botcriptofy.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "botcriptofy.ollamaHost" -}}
{{- if .Values.config.OLLAMA_HOST -}}
{{- .Values.config.OLLAMA_HOST -}}
{{- else if .Values.ollama.enabled -}}
{{- printf "http://%s-ollama:11434" (include "botcriptofy.fullname" .) -}}
{{- else -}}
http://127.0.0.1:11434
{{- end -}}
{{- end -}}

{{/* The environment of every product container: the ConfigMap and the Secret. */}}
{{- define "botcriptofy.envFrom" -}}
- configMapRef:
    name: {{ include "botcriptofy.fullname" . }}-config
- secretRef:
    name: {{ include "botcriptofy.secretName" . }}
{{- end -}}

{{/* Pod-level settings shared by the product's pods. */}}
{{- define "botcriptofy.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
