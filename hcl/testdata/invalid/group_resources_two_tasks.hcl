# want: 4: Resources for several tasks: These resources are written beside 2 tasks
experiment "sidecar" {
  group "worker" {
    resources {
      cpu = 1
    }
    task "train" {
      command = "python3"
    }
    task "log" {
      command = "tail"
    }
  }
}
