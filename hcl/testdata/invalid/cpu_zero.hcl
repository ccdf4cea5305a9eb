# want: 4: Invalid value for cpu: A trial needs some CPU: cpu must be greater than 0 (fractions such as 0.5 share a core); got 0
experiment "cpu" {
  resources {
    cpu = 0
  }
  task "train" {
    command = "python3"
  }
}
