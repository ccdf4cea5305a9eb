# One trial that prints a million @tune reports as fast as it can, for
# scripts/bench-reports.sh.
variable "reports" {
  type    = number
  default = 1000000
}

experiment "reports" {
  metric = "loss"
  mode   = "min"

  resources {
    cpu    = 1
    memory = 64
  }

  task "train" {
    command = "awk"
    args    = ["BEGIN { for (i = 1; i <= ${var.reports}; i++) printf \"@tune {\\\"loss\\\": %d, \\\"step\\\": %d}\\n\", ${var.reports} - i, i }"]
  }
}
