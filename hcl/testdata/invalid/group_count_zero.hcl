# want: 4: Invalid value for count: The count must be at least 1; got 0
experiment "workers" {
  group "worker" {
    count = 0
    task "train" {
      command = "python3"
    }
  }
}
