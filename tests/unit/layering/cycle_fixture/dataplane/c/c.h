#pragma once
#include "dataplane/a/a.h"
