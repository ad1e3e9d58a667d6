{{- define "provgate.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "provgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}
{{- define "provgate.labels" -}}
app.kubernetes.io/name: {{ include "provgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "provgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "provgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "provgate.policyConfigMap" -}}
{{- if .Values.existingPolicyConfigMap -}}{{ .Values.existingPolicyConfigMap }}{{- else -}}{{ include "provgate.fullname" . }}-policies{{- end -}}
{{- end -}}
{{- define "provgate.tlsSecret" -}}{{ include "provgate.fullname" . }}-tls{{- end -}}
{{- define "provgate.excludeNamespaces" -}}
{{- $ns := list .Release.Namespace "kube-system" -}}
{{- range .Values.excludeNamespaces }}{{- $ns = append $ns . -}}{{- end -}}
{{- $ns | uniq | join "," -}}
{{- end -}}
