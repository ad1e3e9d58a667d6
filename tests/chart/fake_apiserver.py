#!/usr/bin/env python3
"""A stand-in Kubernetes API server on loopback, for the chart test only.

It answers what `helm template --dry-run=server` and `kubectl apply
--dry-run=client` ask before rendering or applying: /version, legacy
discovery (/api, /apis, /api/v1, /apis/GROUP/VERSION) for the kinds the
chart renders, and GET of single objects. Objects come from STORE_DIR as
files named NAMESPACE_RESOURCE_NAME.json (e.g. provgate_secrets_t-provgate-tls.json);
anything else is 404 Not Found. It validates nothing and stores nothing:
it lets the real helm run its real `lookup`, and kubectl map each document
to a kind, without a cluster.

Usage: fake_apiserver.py PORT_FILE STORE_DIR   (writes the port it bound to PORT_FILE)
"""
import http.server
import json
import os
import sys

RESOURCES = {
    "v1": [
        ("configmaps", "ConfigMap", True), ("secrets", "Secret", True),
        ("services", "Service", True), ("serviceaccounts", "ServiceAccount", True),
        ("pods", "Pod", True), ("namespaces", "Namespace", False),
    ],
    "apps/v1": [("deployments", "Deployment", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "admissionregistration.k8s.io/v1": [
        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False),
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration", False),
    ],
    "cert-manager.io/v1": [("certificates", "Certificate", True), ("issuers", "Issuer", True)],
    "monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor", True), ("prometheusrules", "PrometheusRule", True)],
}


def resource_list(gv):
    return {
        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
        "resources": [
            {"name": n, "singularName": k.lower(), "namespaced": ns, "kind": k,
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
            for n, k, ns in RESOURCES[gv]
        ],
    }


def group_list():
    groups = {}
    for gv in RESOURCES:
        if "/" in gv:
            g, v = gv.split("/")
            groups.setdefault(g, []).append(v)
    return {
        "kind": "APIGroupList", "apiVersion": "v1",
        "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in groups.items()
        ],
    }


NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}


class Handler(http.server.BaseHTTPRequestHandler):
    store = "."

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        if path == "/version":
            return self.reply(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0", "platform": "linux/amd64"})
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if path == "/apis":
            return self.reply(200, group_list())
        if path == "/api/v1":
            return self.reply(200, resource_list("v1"))
        parts = path.strip("/").split("/")
        if parts[0] == "apis" and len(parts) == 3 and f"{parts[1]}/{parts[2]}" in RESOURCES:
            return self.reply(200, resource_list(f"{parts[1]}/{parts[2]}"))
        # /api/v1/namespaces/NS/RESOURCE/NAME or /apis/G/V/namespaces/NS/RESOURCE/NAME
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        if len(rest) == 4 and rest[0] == "namespaces":
            f = os.path.join(self.store, f"{rest[1]}_{rest[2]}_{rest[3]}.json")
            if os.path.isfile(f):
                with open(f) as fh:
                    return self.reply(200, json.load(fh))
        return self.reply(404, NOT_FOUND)

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-apiserver: %s %s\n" % (self.command, self.path))


def main():
    port_file, store = sys.argv[1], sys.argv[2]
    Handler.store = store
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as fh:
        fh.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
