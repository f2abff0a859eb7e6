{{/*
Chart name, at most 63 characters.
*/}}
{{- define "aim-engine.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of resource names: <release>-<chart>, or the release name when it already contains the
chart name ("aim-engine" for `helm install aim-engine ...`). At most 63 characters.
*/}}
{{- define "aim-engine.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "aim-engine.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object the chart creates.
*/}}
{{- define "aim-engine.labels" -}}
helm.sh/chart: {{ include "aim-engine.chart" . }}
{{ include "aim-engine.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aim-engine
{{- end }}

{{/*
Selector labels of the operator pods (immutable once installed: keep them stable).
*/}}
{{- define "aim-engine.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aim-engine.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{/*
Name of the operator's ServiceAccount.
*/}}
{{- define "aim-engine.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aim-engine.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Operator image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "aim-engine.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
Image of the download Jobs: downloader.image, else the operator image (which has aim-fetch).
*/}}
{{- define "aim-engine.downloaderImage" -}}
{{- default (include "aim-engine.image" .) .Values.downloader.image }}
{{- end }}

{{/*
"true" when leader election is on: asked for, or needed because more than one replica runs.
*/}}
{{- define "aim-engine.leaderElect" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{/*
Name of the leader Lease (--leader-election-id); the leader-election Role is limited to it.
*/}}
{{- define "aim-engine.leaseName" -}}
{{- printf "%s-leader" (include "aim-engine.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The ClusterRole the download pods are bound to. The operator creates the RoleBindings itself and
names this ClusterRole in them (controllers/cache/artifact_controller.cpp), so the name is fixed:
it does not follow the release name, and one release per cluster can own it.
*/}}
{{- define "aim-engine.statusUpdaterRoleName" -}}
aim-engine-artifact-status-updater
{{- end }}

{{/*
"true" when /metrics is served over HTTPS with authentication and authorization.
*/}}
{{- define "aim-engine.metricsSecure" -}}
{{- and .Values.metrics.enabled .Values.metrics.secure | toString }}
{{- end }}

{{/*
Checks of values the operator would otherwise reject at start (a crash loop). Renders nothing.
*/}}
{{- define "aim-engine.validate" -}}
{{- if not (has .Values.logLevel (list "debug" "info" "warn" "warning" "error")) }}
{{- fail (printf "logLevel must be one of debug, info, warn, error (got %q)" (toString .Values.logLevel)) }}
{{- end }}
{{- if not (has .Values.logFormat (list "json" "text")) }}
{{- fail (printf "logFormat must be json or text (got %q)" (toString .Values.logFormat)) }}
{{- end }}
{{- if lt (int .Values.replicaCount) 0 }}
{{- fail "replicaCount must not be negative" }}
{{- end }}
{{- $le := .Values.leaderElection }}
{{- range $k := list "leaseDuration" "renewDeadline" "retryPeriod" }}
{{- $v := int (index $le $k) }}
{{- if or (lt $v 1) (gt $v 3600) }}
{{- fail (printf "leaderElection.%s must be between 1 and 3600 seconds (got %v)" $k (index $le $k)) }}
{{- end }}
{{- end }}
{{- if not (and (lt (int $le.retryPeriod) (int $le.renewDeadline)) (lt (int $le.renewDeadline) (int $le.leaseDuration))) }}
{{- fail "leaderElection: need retryPeriod < renewDeadline < leaseDuration" }}
{{- end }}
{{- range $k, $p := dict "metrics.port" .Values.metrics.port "healthProbe.port" .Values.healthProbe.port }}
{{- if or (lt (int $p) 1) (gt (int $p) 65535) }}
{{- fail (printf "%s must be a port number (got %v)" $k $p) }}
{{- end }}
{{- end }}
{{- if not (has (toString .Values.metrics.tlsMinVersion) (list "1.2" "1.3")) }}
{{- fail (printf "metrics.tlsMinVersion must be \"1.2\" or \"1.3\" (got %q)" (toString .Values.metrics.tlsMinVersion)) }}
{{- end }}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.healthProbe.port)) }}
{{- fail "metrics.port and healthProbe.port must differ" }}
{{- end }}
{{- $qps := .Values.kubeApi.qps }}
{{- if or (lt (float64 $qps) 1.0) (gt (float64 $qps) 100000.0) }}
{{- fail (printf "kubeApi.qps must be a number between 1 and 100000 (got %v)" $qps) }}
{{- end }}
{{- $burst := .Values.kubeApi.burst }}
{{- if or (lt (float64 $burst) 1.0) (gt (float64 $burst) 1000000.0) (ne (float64 (int $burst)) (float64 $burst)) }}
{{- fail (printf "kubeApi.burst must be a whole number between 1 and 1000000 (got %v)" $burst) }}
{{- end }}
{{- $workers := .Values.workers }}
{{- if or (lt (float64 $workers) 1.0) (gt (float64 $workers) 64.0) (ne (float64 (int $workers)) (float64 $workers)) }}
{{- fail (printf "workers must be a whole number between 1 and 64 (got %v)" $workers) }}
{{- end }}
{{- with .Values.downloader.maxArtifactSize }}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$" (toString .)) }}
{{- fail (printf "downloader.maxArtifactSize must be a positive quantity such as 2Ti (got %q)" (toString .)) }}
{{- end }}
{{- end }}
{{- end }}
