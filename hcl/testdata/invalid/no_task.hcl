# want: 2: Missing task: Every trial runs at least one task
experiment "idle" {
  resources {
    cpu = 1
  }
}
