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
          {{- include "provgate.cel.modelPaths" $root | nindent 10 }}
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
      # The custom resources provgate reads (docs/server.md): KServe's
      # InferenceService (v1beta1), LLMInferenceService (v1alpha1, v1alpha2)
      # and TrainedModel (v1alpha1), LeaderWorkerSet (v1) and Argo Rollout
      # (v1alpha1). A rule is the cross product of its lists; the
      # combinations no API serves match nothing.
      - operations: ["CREATE", "UPDATE"]
        apiGroups: ["serving.kserve.io", "leaderworkerset.x-k8s.io", "argoproj.io"]
        apiVersions: ["v1beta1", "v1alpha1", "v1alpha2", "v1"]
        resources: ["inferenceservices", "llminferenceservices", "trainedmodels", "leaderworkersets", "rollouts"]
        scope: Namespaced
{{- end -}}

{{- /*
provgate.cel.modelPaths: the rest of the matchCondition, for the references
that are neither container images nor image volumes nor annotations (so
webhook.matchConditions.containerImages=false does not skip them): every
LeaderWorkerSet (its pod templates sit at spec.leaderWorkerTemplate), and
in any pod spec a ModelPack CSI volume, a MODELKIT_REF or STORAGE_URI env
variable, or KServe's storage-initializer init container.
*/ -}}
{{- define "provgate.cel.modelPaths" -}}
|| request.resource.group == 'leaderworkerset.x-k8s.io'
{{- range list "object.spec" "object.spec.template.spec" "object.spec.jobTemplate.spec.template.spec" "object.template.spec" }}
{{- $guard := "" }}
{{- $parts := splitList "." . }}
{{- range $i, $_ := $parts }}{{ if gt $i 0 }}{{ $guard = printf "%shas(%s) && " $guard (slice $parts 0 (add1 $i) | join ".") }}{{ end }}{{ end }}
|| ({{ $guard }}(
  (has({{ . }}.volumes) && {{ . }}.volumes.exists(v, has(v.csi) && has(v.csi.driver) && v.csi.driver == 'model.csi.modelpack.org'))
  || (has({{ . }}.initContainers) && {{ . }}.initContainers.exists(c, (has(c.name) && c.name == 'storage-initializer') || (has(c.env) && c.env.exists(e, has(e.name) && (e.name == 'MODELKIT_REF' || e.name == 'STORAGE_URI')))))
  || (has({{ . }}.containers) && {{ . }}.containers.exists(c, has(c.env) && c.env.exists(e, has(e.name) && e.name == 'STORAGE_URI')))))
{{- end }}
{{- end -}}
