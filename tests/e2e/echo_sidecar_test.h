// A test fixture with one sidecar (app id a) in front of ringside-echo-app, started by Start()
// with the flags under test: the shape of the limits tests, which attack one sidecar directly.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace ringside::e2e {

class EchoSidecarTest : public ::testing::Test {
 protected:
  // Starts the echo app and sidecar a with `flags`; waits until a can invoke its own app.
  void Start(std::vector<std::string> flags) {
    auto app = StartEchoApp(dir_, &app_port_);
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = std::move(*app);
    auto a = StartSidecar({.app_id = "a", .app_port = app_port_, .nr_db = dir_.File("nr.db"),
                           .extra_args = std::move(flags)},
                          dir_);
    ASSERT_TRUE(a.ok()) << a.status();
    a_ = std::move(*a);
    ASSERT_TRUE(WaitUntilInvocable(a_.ports.http, "a", 15s)) << a_.process->LogTail();
  }
  void TearDown() override {
    if (HasFailure() && a_.process) std::cerr << "--- sidecar log:\n" << a_.process->LogTail();
  }

  TempDir dir_;                          // the sidecar's files and registry
  uint16_t app_port_ = 0;                // where the echo app listens
  std::unique_ptr<ChildProcess> app_;    // the echo app
  Sidecar a_;                            // the sidecar under test
};

}  // namespace ringside::e2e
