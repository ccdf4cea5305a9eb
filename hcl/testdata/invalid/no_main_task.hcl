# want: 3: No main task
experiment "vocab" {
  group "setup" {
    task "fetch" {
      command = "/usr/bin/true"
      lifecycle {
        hook = "prestart"
      }
    }
  }
}
