variable "plan_name" {
  description = "The DR plan's name (drplan.yaml `name`)."
  type        = string
  default     = "reference"
}

variable "region" {
  description = "The DR region: where the drill restores, and where this task and its schedule run."
  type        = string
  default     = "us-west-2"
}

variable "primary_region" {
  description = "The primary region of the plan."
  type        = string
  default     = "us-east-1"
}

variable "image" {
  description = "The drctl image with the plan at /etc/drctl/drplan.yaml (FROM drctl; COPY drplan.yaml /etc/drctl/)."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression, in UTC: `drctl drill schedule --print ecs` prints the plan's."
  type        = string
  default     = "cron(0 6 1 1,4,7,10 ? *)"
}

variable "cluster_arn" {
  description = "An existing ECS cluster to run in; null creates one named drctl."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets (in var.region) for the task; they need a route to the AWS APIs and the restored database."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups for the task (egress to HTTPS and to PostgreSQL of the restored instance)."
  type        = list(string)
}

variable "state_url_secret_arn" {
  description = "Secrets Manager secret holding the state store URL (postgres://…); injected as DRCTL_STATE_URL, never in plain text."
  type        = string
}

variable "drill_url_env_names" {
  description = "The environment variables the plan's drill reads database URLs from (drills.validation.url_env, drills.primary_url_env, checks' *_url_env); `drctl drill schedule --print ecs-task` lists them."
  type        = list(string)
  default     = []
}

variable "drill_url_secret_arn" {
  description = "Secrets Manager secret (JSON, one key per name in drill_url_env_names) holding those URLs; null when the plan's drill reads none."
  type        = string
  default     = null
  validation {
    condition     = length(var.drill_url_env_names) == 0 || var.drill_url_secret_arn != null
    error_message = "drill_url_env_names needs drill_url_secret_arn: the URLs hold passwords and come only from Secrets Manager."
  }
}

variable "kms_key_arns" {
  description = "KMS keys of encrypted DR replicas (their snapshots and drill copies are encrypted with them); RDS uses them through grants. Empty: unencrypted."
  type        = list(string)
  default     = []
}

variable "cpu" {
  type    = number
  default = 512
}

variable "memory" {
  type    = number
  default = 1024
}

variable "log_retention_days" {
  description = "Drill logs are audit evidence: keep them beyond a yearly audit."
  type        = number
  default     = 400
}
