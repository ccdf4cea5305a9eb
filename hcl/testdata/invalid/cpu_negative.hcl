# want: 4: Invalid value for cpu: A trial needs some CPU: cpu must be greater than 0 (fractions such as 0.5 share a core); got -1
experiment "cpu" {
  resources {
    cpu = -1
  }
  task "train" {
    command = "python3"
  }
}
