# want: 11: Too many allocations: The groups of this trial add up to 1200 allocations, more than the 1000
experiment "gang" {
  group "ps" {
    count = 600
    task "serve" {
      command = "sh"
    }
  }

  group "worker" {
    count = 600
    task "train" {
      command = "sh"
    }
  }
}
