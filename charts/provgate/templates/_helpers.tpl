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
{{- /*
provgate.modelAnnotations: the annotation names provgate reads model URIs
from (--model-annotations, or the server's default list), as a list.
*/ -}}
{{- define "provgate.modelAnnotations" -}}
{{- $a := .Values.modelAnnotations | default (list "serving.kserve.io/storage-initializer-sourceuri" "internal.serving.kserve.io/storage-initializer-sourceuri" "provgate.dev/model") -}}
{{- toJson $a -}}
{{- end -}}

{{- /*
provgate.policyFiles: the inline policy entries provgate loads (names ending
in .yaml, .yml or .json, not starting with "."), comments stripped, as a
JSON object name -> text. Other entries (key files) are left out.
*/ -}}
{{- define "provgate.policyFiles" -}}
{{- $out := dict -}}
{{- if not .Values.existingPolicyConfigMap -}}
{{- range $file, $text := .Values.policies -}}
{{- if and (regexMatch "\\.(yaml|yml|json)$" $file) (not (hasPrefix "." $file)) -}}
{{- $_ := set $out $file (regexReplaceAll "(?m)(^|\\s)#.*$" $text "") -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{- /*
provgate.onlyWarnOrAudit: "true" when the chart can see that provgate never
denies: every inline ModelPolicy document has mode warn or audit, there is
no existingPolicyConfigMap (whose content the chart cannot see), and
unmatched references are allowed. A regular expression over the text, so
it is conservative: a document it cannot read (no `kind: ModelPolicy`, no
or another mode) makes it "".
*/ -}}
{{- define "provgate.onlyWarnOrAudit" -}}
{{- $files := include "provgate.policyFiles" . | fromJson -}}
{{- $ok := and (not .Values.existingPolicyConfigMap) (eq .Values.unmatched "allow") (gt (len $files) 0) -}}
{{- range $file, $text := $files -}}
{{- $docs := len (regexFindAll "[\"']?\\bkind[\"']?\\s*:\\s*[\"']?ModelPolicy\\b" $text -1) -}}
{{- $modes := len (regexFindAll "[\"']?\\bmode[\"']?\\s*:" $text -1) -}}
{{- $soft := len (regexFindAll "[\"']?\\bmode[\"']?\\s*:\\s*[\"']?(warn|audit)[\"']?\\s*(,|}|$|\\n)" $text -1) -}}
{{- if or (eq $docs 0) (ne $modes $docs) (ne $soft $docs) -}}{{- $ok = false -}}{{- end -}}
{{- end -}}
{{- if $ok -}}true{{- end -}}
{{- end -}}

{{- /*
provgate.validate: the rules values.schema.json cannot express. Included
by every template that depends on them, so any render fails early.
*/ -}}
{{- define "provgate.validate" -}}
{{- $v := .Values -}}
{{- $files := include "provgate.policyFiles" . | fromJson -}}
{{- if and (not $v.existingPolicyConfigMap) (eq (len $files) 0) (not $v.allowEmptyPolicies) -}}
{{- fail (printf "\n\nprovgate: no policies given.\nWithout a policy provgate's /readyz stays 503, no pod becomes ready, and with webhook.failurePolicy=%s the API server would %s.\nPass the policy files:\n  --set-file 'policies.production\\.yaml'=my-policy.yaml    (one per file; escape the dot in the name, and the name must end in .yaml, .yml or .json)\nor a ConfigMap holding a directory of them:\n  kubectl -n %s create configmap provgate-policies --from-file=policies/\n  --set existingPolicyConfigMap=provgate-policies\nTo install without policies anyway, set allowEmptyPolicies=true (see docs/helm-chart.md).\n" $v.webhook.failurePolicy (ternary "reject every Pod and workload create or update outside the excluded namespaces" "admit everything unchecked" (eq $v.webhook.failurePolicy "Fail")) .Release.Namespace) -}}
{{- end -}}
{{- if ge (float64 $v.verifyTimeoutSeconds) (float64 $v.webhook.timeoutSeconds) -}}
{{- fail (printf "\n\nprovgate: verifyTimeoutSeconds (%v) must be below webhook.timeoutSeconds (%v), so provgate answers with a reason before the API server gives up and applies failurePolicy=%s." $v.verifyTimeoutSeconds $v.webhook.timeoutSeconds $v.webhook.failurePolicy) -}}
{{- end -}}
{{- if and $v.serviceMonitor.enabled (not $v.metrics.port) -}}
{{- fail "\n\nprovgate: serviceMonitor.enabled needs metrics.port (the plain-HTTP metrics port it scrapes); it is 0." -}}
{{- end -}}
{{- if and $v.prometheusRule.enabled (not $v.metrics.port) -}}
{{- fail "\n\nprovgate: prometheusRule.enabled needs metrics.port: its alerts select the series scraped from the `metrics` port; it is 0." -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) -}}
{{- fail (printf "\n\nprovgate: autoscaling.minReplicas (%v) is above autoscaling.maxReplicas (%v)." $v.autoscaling.minReplicas $v.autoscaling.maxReplicas) -}}
{{- end -}}
{{- if and $v.autoscaling.enabled (not (dig "requests" "cpu" "" $v.resources)) -}}
{{- fail "\n\nprovgate: autoscaling.enabled needs resources.requests.cpu: the HPA's CPU target is a share of it." -}}
{{- end -}}
{{- if and $v.podDisruptionBudget.enabled (not (kindIs "string" $v.podDisruptionBudget.minAvailable)) -}}
{{- $pods := ternary $v.autoscaling.minReplicas $v.replicaCount $v.autoscaling.enabled -}}
{{- if ge (int $v.podDisruptionBudget.minAvailable) (int $pods) -}}
{{- fail (printf "\n\nprovgate: podDisruptionBudget.minAvailable (%v) must be below the number of pods (%v, %s), or no node drain could ever evict one. Lower it, raise the pods, or set podDisruptionBudget.enabled=false." $v.podDisruptionBudget.minAvailable $pods (ternary "autoscaling.minReplicas" "replicaCount" $v.autoscaling.enabled)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.webhook.matchConditions.enabled (not $v.webhook.matchConditions.containerImages) -}}
{{- range $file, $text := $files -}}
{{- $docs := len (regexFindAll "[\"']?\\bkind[\"']?\\s*:\\s*[\"']?ModelPolicy\\b" $text -1) -}}
{{- $sources := len (regexFindAll "[\"']?\\bsources[\"']?\\s*:" $text -1) -}}
{{- if or (lt $sources $docs) (regexMatch "\\bcontainer\\b" $text) -}}
{{- fail (printf "\n\nprovgate: webhook.matchConditions.containerImages=false, but policies[%q] may select container images (a policy without match.sources, or naming the container source): those containers would never reach provgate. Keep containerImages=true, or give every policy match.sources without container." $file) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- /*
provgate.tlsMaterial: the CA and serving certificate the chart generates,
as JSON {caCrt, tlsCrt, tlsKey}, each base64. On upgrade (and any render
with a cluster, e.g. --dry-run=server) the Secret from the previous install
is looked up and its three entries reused as they are, so the caBundle in
the webhook configurations and the certificate provgate serves never
disagree. helm template without a cluster finds nothing and generates anew.
*/ -}}
{{- define "provgate.tlsMaterial" -}}
{{- $fullname := include "provgate.fullname" . -}}
{{- $svc := printf "%s.%s.svc" $fullname .Release.Namespace -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "provgate.tlsSecret" .) | default dict -}}
{{- $caCrt := dig "data" "ca.crt" "" $existing -}}
{{- $tlsCrt := dig "data" "tls.crt" "" $existing -}}
{{- $tlsKey := dig "data" "tls.key" "" $existing -}}
{{- if and $caCrt $tlsCrt $tlsKey -}}
{{- dict "caCrt" $caCrt "tlsCrt" $tlsCrt "tlsKey" $tlsKey "reused" true | toJson -}}
{{- else -}}
{{- $ca := genCA (printf "%s-ca" $fullname) (int .Values.tls.certDays) -}}
{{- $cert := genSignedCert $svc nil (list $svc (printf "%s.%s" $fullname .Release.Namespace)) (int .Values.tls.certDays) $ca -}}
{{- dict "caCrt" ($ca.Cert | b64enc) "tlsCrt" ($cert.Cert | b64enc) "tlsKey" ($cert.Key | b64enc) "reused" false | toJson -}}
{{- end -}}
{{- end -}}

{{- /*
provgate.cel.podSpec: CEL that is true when the pod spec at .path holds a
candidate reference (an image volume; a container image unless
.containerImages is false). Every step is guarded by has(): a CEL error in a
matchCondition would apply failurePolicy to the object.
*/ -}}
{{- define "provgate.cel.podSpec" -}}
{{- $p := .path -}}
(has({{ $p }}.volumes) && {{ $p }}.volumes.exists(v, has(v.image)))
{{- if .containerImages }}
{{- range list "containers" "initContainers" "ephemeralContainers" }}
 || (has({{ $p }}.{{ . }}) && {{ $p }}.{{ . }}.exists(c, has(c.image) && c.image != ''))
{{- end }}
{{- end }}
{{- end -}}

{{- /* provgate.cel.annotations: true when the metadata at .path carries a model annotation. */ -}}
{{- define "provgate.cel.annotations" -}}
(has({{ .path }}.annotations) && {{ .annotations }}.exists(k, k in {{ .path }}.annotations))
{{- end -}}

{{- /*
provgate.cel.podTemplate: a pod template at .path (an object with
metadata and spec), guarded.
*/ -}}
{{- define "provgate.cel.podTemplate" -}}
(has({{ .path }}.metadata) && {{ include "provgate.cel.annotations" (dict "path" (printf "%s.metadata" .path) "annotations" .annotations) }})
 || (has({{ .path }}.spec) && ({{ include "provgate.cel.podSpec" (dict "path" (printf "%s.spec" .path) "containerImages" .containerImages) | nindent 2 | trim }}))
{{- end -}}

{{- /*
provgate.cel.candidate: the matchCondition expression. Objects where
provgate looks for references (docs/server.md): InferenceService (always
sent: its references sit in many framework fields), Pod (spec), PodTemplate
(template), Deployment/ReplicaSet/StatefulSet/DaemonSet/Job/
ReplicationController (spec.template), CronJob (spec.jobTemplate.spec.
template). Annotations on the object's own metadata count too (a superset
of what provgate reads, so nothing it would check is skipped).
*/ -}}
{{- define "provgate.cel.candidate" -}}
{{- $a := include "provgate.modelAnnotations" . -}}
{{- $c := .Values.webhook.matchConditions.containerImages -}}
request.resource.group == 'serving.kserve.io'
|| (has(object.metadata) && {{ include "provgate.cel.annotations" (dict "path" "object.metadata" "annotations" $a) }})
|| (has(object.spec) && ({{ include "provgate.cel.podSpec" (dict "path" "object.spec" "containerImages" $c) }}))
|| (has(object.spec) && has(object.spec.template) && ({{ include "provgate.cel.podTemplate" (dict "path" "object.spec.template" "annotations" $a "containerImages" $c) }}))
|| (has(object.spec) && has(object.spec.jobTemplate) && has(object.spec.jobTemplate.spec) && has(object.spec.jobTemplate.spec.template) && ({{ include "provgate.cel.podTemplate" (dict "path" "object.spec.jobTemplate.spec.template" "annotations" $a "containerImages" $c) }}))
|| (has(object.template) && ({{ include "provgate.cel.podTemplate" (dict "path" "object.template" "annotations" $a "containerImages" $c) }}))
{{- end -}}

{{- /*
provgate.terminationGracePeriodSeconds: what `provgate serve` may take
after SIGTERM, rounded up: --shutdown-delay, then the drain (--verify-timeout
+ 2 s), plus 5 s to spare.
*/ -}}
{{- define "provgate.terminationGracePeriodSeconds" -}}
{{- add (ceil .Values.shutdownDelaySeconds | int) (ceil .Values.verifyTimeoutSeconds | int) 7 -}}
{{- end -}}

{{- /*
provgate.metricsSelector: the PromQL label matchers of this release's
series, as the ServiceMonitor scrapes them (job = the Service's name).
*/ -}}
{{- define "provgate.metricsSelector" -}}
namespace="{{ .Release.Namespace }}",job="{{ include "provgate.fullname" . }}"
{{- end -}}

{{- /* provgate.matchConditionsOn: "true" when the cluster evaluates matchConditions (1.28 beta on by default, 1.30 GA). */ -}}
{{- define "provgate.matchConditionsOn" -}}
{{- if and .Values.webhook.matchConditions.enabled (semverCompare ">=1.28.0-0" .Capabilities.KubeVersion.Version) -}}true{{- end -}}
{{- end -}}
