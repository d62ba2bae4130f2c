"""The strict Kubernetes validator on its own (no cluster, well under a second): what the official
client serializes passes, and each kind of wrong manifest is caught with the field named.

Run: python3 -m unittest discover -s Tests/TestBed/schemas -p 'test_*.py'
"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kubernetes_strict as strict  # noqa: E402
from kubernetes_strict import client  # noqa: E402

CRONJOB = {
    "apiVersion": "batch/v1", "kind": "CronJob",
    "metadata": {"name": "drill", "namespace": "drctl", "labels": {"app": "drctl"}},
    "spec": {
        "schedule": "0 6 1 1,4,7,10 *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid",
        "jobTemplate": {"spec": {"backoffLimit": 0, "activeDeadlineSeconds": 10800, "template": {"spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
            "containers": [{
                "name": "drctl", "image": "drctl:1", "args": ["drill", "run"],
                "env": [{"name": "DRCTL_STATE_URL", "valueFrom": {"secretKeyRef": {"name": "drctl-state", "key": "url"}}},
                        {"name": "HOME", "value": "/tmp"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            }],
        }}}},
    },
}


def errors_of(document):
    return strict.check_document(document)


def broken(edit):
    document = copy.deepcopy(CRONJOB)
    edit(document)
    return document


def pod_spec(document):
    return document["spec"]["jobTemplate"]["spec"]["template"]["spec"]


class WhatTheClientWritesPasses(unittest.TestCase):
    """Proves the validator is not too strict: the client's own serialization is valid by definition."""

    def test_a_cronjob_built_from_the_clients_models_passes(self):
        job = client.V1CronJob(
            api_version="batch/v1", kind="CronJob", metadata=client.V1ObjectMeta(name="x", annotations={"a": "b"}),
            spec=client.V1CronJobSpec(schedule="@daily", job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(
                template=client.V1PodTemplateSpec(spec=client.V1PodSpec(containers=[client.V1Container(
                    name="c", image="i", ports=[client.V1ContainerPort(container_port=80)],
                    env=[client.V1EnvVar(name="A", value_from=client.V1EnvVarSource(
                        secret_key_ref=client.V1SecretKeySelector(name="s", key="k")))])]))))))
        serialized = client.ApiClient().sanitize_for_serialization(job)
        self.assertEqual(errors_of(serialized), [])

    def test_the_hand_written_cronjob_and_a_configmap_and_service_account_pass(self):
        self.assertEqual(errors_of(CRONJOB), [])
        self.assertEqual(errors_of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"},
                                    "data": {"drplan.yaml": "name: x\n"}}), [])
        self.assertEqual(errors_of({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": "sa", "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}}}), [])


class WrongManifestsAreCaught(unittest.TestCase):
    def assertCaught(self, document, *fragments):
        errors = errors_of(document)
        self.assertTrue(any(all(fragment in error for fragment in fragments) for error in errors),
                        f"expected {fragments} in {errors}")

    def test_an_unknown_field_deep_in_the_pod_is_named_by_its_path(self):
        def typo(d):
            pod_spec(d)["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["nmae"] = "x"
        self.assertCaught(broken(typo), "spec.jobTemplate.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.nmae",
                          "unknown field in V1SecretKeySelector")

    def test_a_field_at_the_wrong_level_is_unknown(self):
        self.assertCaught(broken(lambda d: d["spec"].__setitem__("activeDeadlineSeconds", 60)),
                          "spec.activeDeadlineSeconds", "unknown field in V1CronJobSpec")

    def test_a_string_where_an_integer_belongs_and_an_integer_where_a_string_belongs(self):
        self.assertCaught(broken(lambda d: d["spec"]["jobTemplate"]["spec"].__setitem__("activeDeadlineSeconds", "10800")),
                          "activeDeadlineSeconds", "expected an integer")
        self.assertCaught(broken(lambda d: pod_spec(d)["containers"][0]["env"][1].__setitem__("value", 5)),
                          "env[1].value", "expected a string")
        self.assertCaught(broken(lambda d: d["metadata"]["labels"].__setitem__("tier", True)),
                          "metadata.labels.tier", "expected a string")

    def test_a_boolean_must_be_a_boolean_and_a_list_a_list(self):
        self.assertCaught(broken(lambda d: pod_spec(d)["securityContext"].__setitem__("runAsNonRoot", "true")),
                          "runAsNonRoot", "expected true or false")
        self.assertCaught(broken(lambda d: pod_spec(d)["containers"][0].__setitem__("args", "drill run")),
                          "containers[0].args", "expected a list")

    def test_a_missing_required_field_is_named(self):
        self.assertCaught(broken(lambda d: pod_spec(d)["containers"][0].pop("name")),
                          "containers[0].name", "required field of V1Container")
        self.assertCaught(broken(lambda d: d["spec"].pop("schedule")), "spec.schedule", "required")

    def test_a_kind_not_served_in_its_api_version_is_refused(self):
        self.assertCaught(broken(lambda d: d.__setitem__("apiVersion", "v1")), "no kind 'CronJob'", "'v1'")
        self.assertCaught(broken(lambda d: d.__setitem__("apiVersion", "batch/v1beta1")), "no kind 'CronJob'")
        self.assertCaught({"apiVersion": "v1", "kind": "Cronjob", "metadata": {"name": "x"}}, "no kind 'Cronjob'")


class LiteralSecretsAreFound(unittest.TestCase):
    def test_a_url_with_a_password_or_an_access_key_in_the_manifest_is_reported(self):
        def literal(d):
            pod_spec(d)["containers"][0]["env"][0] = {"name": "DRCTL_STATE_URL", "value": "postgres://drctl:hunter2@db/drctl"}
        self.assertEqual(strict.literal_secrets(broken(literal)), ["spec.jobTemplate.spec.template.spec.containers[0].env[0].value"])
        self.assertEqual(len(strict.literal_secrets({"data": {"k": "AKIAIOSFODNN7EXAMPLE", "c": "host=db password=x"}})), 2)
        self.assertEqual(strict.literal_secrets(CRONJOB), [])

    def test_the_environment_summary_shows_where_each_variable_comes_from(self):
        environments = strict.container_environments(CRONJOB)
        self.assertEqual(environments["drctl"]["DRCTL_STATE_URL"], {"secretKeyRef": {"name": "drctl-state", "key": "url"}})
        self.assertEqual(environments["drctl"]["HOME"], {"value": "/tmp"})


if __name__ == "__main__":
    unittest.main()
