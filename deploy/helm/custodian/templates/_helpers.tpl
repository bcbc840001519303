{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "custodian.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "custodian.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "custodian.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "custodian.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "custodian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custodian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "custodian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "custodian.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "custodian.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "custodian.claimName" -}}
{{- default (printf "%s-shared" (include "custodian.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{/* Environment shared by the web and jobs pods (CUSTODIAN_JOB_ROLE is set by each Deployment). */}}
{{- define "custodian.env" -}}
- name: CUSTODIAN_NODE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: CUSTODIAN_SITE_URL
  value: {{ .Values.siteUrl | quote }}
- name: CUSTODIAN_DATA_DIR
  value: /var/lib/custodian
- name: CUSTODIAN_LISTEN_ADDRESS
  value: "0.0.0.0"
- name: CUSTODIAN_PORT
  value: "8065"
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.secretKey }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/*
Each pod has its own data directory (emptyDir: the lock file, logs), with the shared volume's folders
mounted inside it, so every replica sees the same files, keys, export archives and audit checkpoints.
*/}}
{{- define "custodian.volumeMounts" -}}
- name: data
  mountPath: /var/lib/custodian
- name: shared
  mountPath: /var/lib/custodian/files
  subPath: files
- name: shared
  mountPath: /var/lib/custodian/keys
  subPath: keys
- name: shared
  mountPath: /var/lib/custodian/exports
  subPath: exports
- name: shared
  mountPath: /var/lib/custodian/audit
  subPath: audit
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "custodian.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: shared
  persistentVolumeClaim:
    claimName: {{ include "custodian.claimName" . }}
{{- end -}}

{{/* Creates the shared folders as the pod's user before the subPath mounts need them. */}}
{{- define "custodian.prepareShared" -}}
- name: prepare-shared
  image: {{ include "custodian.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["/bin/sh", "-c", "mkdir -p /shared/files /shared/keys /shared/exports /shared/audit && chmod 0700 /shared/keys"]
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: shared
      mountPath: /shared
{{- end -}}

{{- define "custodian.probes" -}}
readinessProbe:
  httpGet:
    path: /api/v4/system/ping
    port: http
  initialDelaySeconds: {{ .Values.probes.readiness.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
livenessProbe:
  httpGet:
    path: /api/v4/system/ping
    port: http
  initialDelaySeconds: {{ .Values.probes.liveness.initialDelaySeconds }}
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
{{- end -}}
