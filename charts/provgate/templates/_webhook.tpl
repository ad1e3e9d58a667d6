{{- define "provgate.webhookConfig" -}}
{{- $root := .root -}}
apiVersion: admissionregistration.k8s.io/v1
kind: {{ .kind }}
metadata:
  name: {{ .fullname }}
  labels: {{- include "provgate.labels" $root | nindent 4 }}
  {{- if $root.Values.tls.certManager.enabled }}
  annotations:
    cert-manager.io/inject-ca-from: {{ $root.Release.Namespace }}/{{ .fullname }}
  {{- end }}
webhooks:
  - name: {{ .name }}.provgate.dev
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: {{ $root.Values.webhook.failurePolicy }}
    timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
    matchPolicy: Equivalent
    {{- if eq .kind "MutatingWebhookConfiguration" }}
    reinvocationPolicy: {{ $root.Values.webhook.reinvocationPolicy }}
    {{- end }}
    clientConfig:
      service:
        name: {{ .fullname }}
        namespace: {{ $root.Release.Namespace }}
        path: {{ .path }}
        port: {{ $root.Values.service.port }}
      {{- if .caBundle }}
      caBundle: {{ .caBundle }}
      {{- end }}
    namespaceSelector:
      matchExpressions:
        - key: kubernetes.io/metadata.name
          operator: NotIn
          values: [{{ include "provgate.excludeNamespaces" $root | splitList "," | join ", " }}]
        {{- with $root.Values.webhook.namespaceSelector.matchExpressions }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $root.Values.webhook.namespaceSelector.matchLabels }}
      matchLabels: {{- toYaml . | nindent 8 }}
      {{- end }}
    {{- with $root.Values.webhook.objectSelector }}
    objectSelector: {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- if include "provgate.matchConditionsOn" $root }}
    # The API server evaluates these first and calls provgate only when all
    # hold (values: webhook.matchConditions).
    matchConditions:
      - name: may-hold-model-reference
        expression: |-
          {{- include "provgate.cel.candidate" $root | nindent 10 }}
      {{- range $root.Values.webhook.matchConditions.additional }}
      - name: {{ .name }}
        expression: {{ .expression | toJson }}
      {{- end }}
    {{- end }}
    rules:
      - operations: ["CREATE", "UPDATE"]
        apiGroups: [""]
        apiVersions: ["v1"]
        resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"]
        scope: Namespaced
      - operations: ["CREATE", "UPDATE"]
        apiGroups: ["apps"]
        apiVersions: ["v1"]
        resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
        scope: Namespaced
      - operations: ["CREATE", "UPDATE"]
        apiGroups: ["batch"]
        apiVersions: ["v1"]
        resources: ["jobs", "cronjobs"]
        scope: Namespaced
      - operations: ["CREATE", "UPDATE"]
        apiGroups: ["serving.kserve.io"]
        apiVersions: ["v1beta1"]
        resources: ["inferenceservices"]
        scope: Namespaced
{{- end -}}
