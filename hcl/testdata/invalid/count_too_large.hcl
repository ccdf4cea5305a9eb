# want: 4: Invalid value for count: The count must be at most 1000; got 1e+09
experiment "gang" {
  group "worker" {
    count = 1e9
    task "train" {
      command = "sh"
    }
  }
}
