"""The botocore input checker on its own: a valid CreateSchedule input passes, and what the
service would refuse — botocore's own checks and the enum / pattern / maximum rules it leaves to
the server — is named by its path.

Run: python3 -m unittest discover -s Tests/TestBed/schemas -p 'test_*.py'
"""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from botocore_input import problems_of  # noqa: E402

SCHEDULE = {
    "Name": "drctl-drill-orders", "ScheduleExpression": "cron(0 6 1 1,4,7,10 ? *)", "ScheduleExpressionTimezone": "UTC",
    "FlexibleTimeWindow": {"Mode": "OFF"}, "State": "ENABLED",
    "Target": {
        "Arn": "arn:aws:ecs:us-west-2:123456789012:cluster/drctl",
        "RoleArn": "arn:aws:iam::123456789012:role/drctl-drill-scheduler",
        "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600},
        "EcsParameters": {"TaskDefinitionArn": "arn:aws:ecs:us-west-2:123456789012:task-definition/drctl-drill-orders",
                          "TaskCount": 1, "LaunchType": "FARGATE", "Tags": [{"drctl:plan": "orders"}]},
    },
}


def edited(edit):
    document = copy.deepcopy(SCHEDULE)
    edit(document)
    return problems_of(document, "scheduler", "CreateSchedule")


class CreateScheduleInput(unittest.TestCase):
    def test_a_valid_input_passes(self):
        self.assertEqual(problems_of(SCHEDULE, "scheduler", "CreateSchedule"), [])

    def assertNamed(self, problems, *fragments):
        self.assertTrue(any(all(f in p for f in fragments) for p in problems), f"{fragments} not in {problems}")

    def test_botocores_own_checks_unknown_member_type_and_required(self):
        self.assertNamed(edited(lambda d: d["Target"]["EcsParameters"].__setitem__("Launchtype", "FARGATE")),
                         "Unknown parameter in Target.EcsParameters", "Launchtype")
        self.assertNamed(edited(lambda d: d["Target"]["EcsParameters"].__setitem__("TaskCount", "1")),
                         "Target.EcsParameters.TaskCount", "valid types")
        self.assertNamed(edited(lambda d: d.pop("FlexibleTimeWindow")), "Missing required parameter", "FlexibleTimeWindow")

    def test_the_rules_botocore_leaves_to_the_service_enum_pattern_and_maximum(self):
        self.assertNamed(edited(lambda d: d["Target"]["EcsParameters"].__setitem__("LaunchType", "fargate")),
                         "Target.EcsParameters.LaunchType", "not one of")
        self.assertNamed(edited(lambda d: d.__setitem__("Name", "drctl drill")), "Name", "pattern")
        self.assertNamed(edited(lambda d: d.__setitem__("Name", "d" * 65)), "Name", "at most 64")
        self.assertNamed(edited(lambda d: d["Target"].__setitem__("RoleArn", "arn:aws:iam::ACCOUNT_ID:role/x")),
                         "Target.RoleArn", "pattern")
        self.assertNamed(edited(lambda d: d["Target"]["RetryPolicy"].__setitem__("MaximumRetryAttempts", 186)),
                         "MaximumRetryAttempts", "maximum")


if __name__ == "__main__":
    unittest.main()
