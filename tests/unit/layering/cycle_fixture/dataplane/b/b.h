#pragma once
#include "dataplane/c/c.h"
