# want: 4: Invalid value for cpu: cpu must not be negative
experiment "cpu" {
  resources {
    cpu = -1
  }
  task "train" {
    command = "python3"
  }
}
